// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Crowdfund
/// @notice A crowdfund that records contributions.
contract CrowdfundTest004 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public protocolFeeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFeeBps(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(protocolFeeBps, newFee);
        protocolFeeBps = newFee;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice What `amount` is worth after the protocol fee, in wei.
    function quoteFee(uint256 amount) public view returns (uint256) {
        uint256 perUnit = amount / BPS_DENOMINATOR;
        return perUnit * (BPS_DENOMINATOR - protocolFeeBps);
    }

    function poolShare(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return deposits[account] * BPS_DENOMINATOR / poolTotal;
    }

    /// @notice Hand the contract to `newOwner`.
    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function withdraw(uint256 amount) external {
        require(deposits[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * protocolFeeBps / BPS_DENOMINATOR;
        deposits[msg.sender] -= amount;
        poolTotal -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }
}
