// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Escrow
/// @notice An escrow that holds deposits until they are withdrawn.
contract EscrowTest026 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public participants;

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
        feeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function sweep(address payable to, uint256 amount) external {
        require(to != address(0), "zero address");
        require(address(this).balance - totalDeposited >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice The ether the pool owes its members.
    function heldBalance() external view returns (uint256) {
        return totalDeposited;
    }

    /// @notice Return `account`'s whole balance to it.
    function refund(address payable account) external onlyOwner {
        uint256 amount = deposits[account];
        deposits[account] = 0;
        totalDeposited -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function feeFor(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS_DENOMINATOR;
    }

    /// @notice Stop or resume deposits.
    function _setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function claim() external {
        uint256 amount = deposits[msg.sender];
        require(amount > 0, "nothing to claim");
        deposits[msg.sender] = 0;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }
}
