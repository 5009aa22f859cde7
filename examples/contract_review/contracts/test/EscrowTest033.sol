// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Escrow
/// @notice An escrow that holds deposits until they are withdrawn.
contract EscrowTest033 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public serviceFeeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFeeBps(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(serviceFeeBps, newFee);
        serviceFeeBps = newFee;
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= payees.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            balances[payees[i]] += share;
        }
        totalDeposited += share * count;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "nothing to claim");
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        balances[msg.sender] = 0;
        totalDeposited -= amount;
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = balances[account];
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        balances[account] = 0;
        totalDeposited -= amount;
    }

    /// @notice The ether the pool owes its members.
    function accountedEther() external view returns (uint256 sum) {
        for (uint256 i = 0; i < payees.length; i++) {
            sum += balances[payees[i]];
        }
    }
}
